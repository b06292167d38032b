//! Applications: the consumers of the API that credentials are issued to.

use serde::Serialize;

use crate::domain::text::{ApplicationName, Description, Owner};
use crate::domain::time::Timestamp;
use crate::ids::ApplicationId;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Application {
    pub id: ApplicationId,
    pub name: ApplicationName,
    pub owner: Owner,
    pub description: Description,
    pub created_at: Timestamp,
    pub created_by: String,
}

/// What is needed to create one, already parsed.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub name: ApplicationName,
    pub owner: Owner,
    pub description: Description,
}
