//! The audit chain: every command leaves its event; tampering is found and named; a failing audit
//! write refuses the change.

use latchkey_core::CoreError;
use latchkey_core::domain::text::Reason;
use latchkey_core::services::credentials::RevokeRequest;
use latchkey_core::storage::Backend;
use latchkey_core::storage::audit::ListFilter;

use crate::both_backends;
use crate::support::TestApp;

/// Issues, rotates nothing, revokes: leaves a chain of a known length.
async fn some_history(app: &TestApp) -> i64 {
    let a = app.create_application("history").await;
    for _ in 0..3 {
        app.issue(&a, "staging").await;
    }
    let c = app.issue(&a, "test").await;
    app.services
        .revoke_credential(
            &app.ctx(),
            &c.credential.id,
            RevokeRequest { reason: Reason::parse("r").unwrap_or_else(|e| panic!("{e}")), emergency: false },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let report = app.services.audit_verify().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.ok, "{report:?}");
    report.last_seq
}

both_backends! {
    /// Every command wrote exactly one event with who, what, target, when, where and request id.
    async fn l2_every_command_leaves_one_complete_event(app: TestApp) {
        let before = app.services.audit_verify().await.unwrap_or_else(|e| panic!("{e}")).last_seq;
        assert_eq!(before, 3, "the three default environments were created with events");
        let last = some_history(&app).await;
        assert_eq!(last, before + 1 + 4 + 1, "one event per command");
        let events = app.services.audit_list(&ListFilter { limit: 100, ..Default::default() }).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(events.len() as i64, last);
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=last).rev().collect::<Vec<_>>(), "newest first, gapless");
        for e in &events {
            assert!(!e.id.is_empty() && !e.action.is_empty() && !e.target_id.is_empty() && !e.request_id.is_empty());
            assert!(!e.actor.name.is_empty());
            assert_eq!(e.outcome, "success");
        }
        let issue = events.iter().rev().find(|e| e.action == "credential.issue").unwrap_or_else(|| panic!("no issue event"));
        assert_eq!(issue.environment.as_deref(), Some("staging"), "the first issue was in staging");
        assert_eq!(issue.target_type, "credential");
        assert!(issue.details["prefix"].as_str().is_some_and(|p| p.starts_with("lk_staging_")));
        // Filters.
        let revokes = app
            .services
            .audit_list(&ListFilter { action: Some("credential.revoke".into()), limit: 100, ..Default::default() })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(revokes.len(), 1);
        let in_test = app
            .services
            .audit_list(&ListFilter { environment: Some("test".into()), limit: 100, ..Default::default() })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(in_test.iter().all(|e| e.environment.as_deref() == Some("test")) && in_test.len() >= 2);
        let page = app
            .services
            .audit_list(&ListFilter { before: Some(5), limit: 2, ..Default::default() })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4, 3]);
    }
}

both_backends! {
    /// Editing one event is found and named.
    async fn l5_edited_event_is_named(app: TestApp) {
        let last = some_history(&app).await;
        app.sql("UPDATE audit_events SET details = '{\"reason\":\"nothing to see\"}' WHERE seq = 5").await;
        let r = app.services.audit_verify().await.unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.ok);
        assert_eq!(r.first_broken_seq, Some(5), "{r:?}");
        assert!(last > 5);
    }
}

both_backends! {
    /// Deleting an event leaves a gap that is named.
    async fn l5_deleted_event_is_named(app: TestApp) {
        some_history(&app).await;
        app.sql("DELETE FROM audit_events WHERE seq = 6").await;
        let r = app.services.audit_verify().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.ok, r.first_broken_seq), (false, Some(6)), "{r:?}");
    }
}

both_backends! {
    /// Swapping two events' contents (reordering) is found at the first of them.
    async fn l5_reordered_events_are_named(app: TestApp) {
        some_history(&app).await;
        app.sql("UPDATE audit_events SET seq = -1 WHERE seq = 4").await;
        app.sql("UPDATE audit_events SET seq = 4 WHERE seq = 5").await;
        app.sql("UPDATE audit_events SET seq = 5 WHERE seq = -1").await;
        let r = app.services.audit_verify().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.ok, r.first_broken_seq), (false, Some(4)), "{r:?}");
    }
}

both_backends! {
    /// Truncating the tail is found: the head and the signed checkpoint remember the length.
    async fn l5_truncated_tail_is_named(app: TestApp) {
        let last = some_history(&app).await;
        assert_eq!(app.services.audit_checkpoint().await.unwrap_or_else(|e| panic!("{e}")), Some(last));
        app.sql(&format!("DELETE FROM audit_events WHERE seq >= {}", last - 1)).await;
        app.sql(&format!("UPDATE audit_head SET seq = {}", last - 2)).await;
        let r = app.services.audit_verify().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.ok, r.first_broken_seq), (false, Some(last - 1)), "{r:?}");
    }
}

both_backends! {
    /// Someone with database access rewrites an event and re-chains every hash after it: only the
    /// signed checkpoint (key outside the database) exposes it.
    async fn l5_rechained_history_fails_the_signed_checkpoint(app: TestApp) {
        let last = some_history(&app).await;
        app.services.audit_checkpoint().await.unwrap_or_else(|e| panic!("{e}"));
        let report = app.services.audit_verify().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((report.ok, report.checkpoints_verified), (true, 1));
        // Rewrite event 5 and recompute the chain from there, as an attacker would.
        app.sql("UPDATE audit_events SET actor_name = 'someone else' WHERE seq = 5").await;
        let mut conn = app.services.db.pool().acquire().await.unwrap_or_else(|e| panic!("{e}"));
        let mut prev = latchkey_core::storage::audit::page_after(&mut conn, 3, 1).await.unwrap_or_else(|e| panic!("{e}"))[0].event.hash;
        for seq in 5..=last {
            let page = latchkey_core::storage::audit::page_after(&mut conn, seq - 1, 1).await.unwrap_or_else(|e| panic!("{e}"));
            let mut e = page[0].event.clone();
            e.prev_hash = prev;
            let h = latchkey_core::domain::audit::chain_hash(&prev, &e, &page[0].details_text);
            sqlx::query("UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE seq = $3")
                .bind(prev.to_vec())
                .bind(h.to_vec())
                .bind(seq)
                .execute(&mut *conn)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            prev = h;
        }
        sqlx::query("UPDATE audit_head SET hash = $1").bind(prev.to_vec()).execute(&mut *conn).await.unwrap_or_else(|e| panic!("{e}"));
        drop(conn);
        let r = app.services.audit_verify().await.unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.ok, "a re-chained history passed: {r:?}");
        assert_eq!(r.first_broken_seq, Some(last), "{r:?}");
        assert!(r.problem.unwrap_or_default().contains("checkpoint"));
    }
}

fn failing_audit_trigger(backend: Backend) -> Vec<&'static str> {
    match backend {
        Backend::Sqlite => vec![
            "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit store failure'); END",
        ],
        Backend::Postgres => vec![
            "CREATE FUNCTION audit_down() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit store failure'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_down()",
        ],
    }
}

both_backends! {
    /// No audit, no action: when the event cannot be written the change is refused as
    /// unavailable (503) and nothing changes — not the row, not the verifier.
    async fn l6_failing_audit_write_refuses_the_change(app: TestApp) {
        let a = app.create_application("audited").await;
        let existing = app.issue(&a, "staging").await;
        for stmt in failing_audit_trigger(app.backend) {
            app.sql(stmt).await;
        }
        let r = app.services.issue_credential(&app.ctx(), app.issue_request(&a, "staging")).await;
        assert!(matches!(r, Err(CoreError::Unavailable(_))), "{r:?}");
        let api = server::http::error::ApiError::from(r.err().unwrap_or_else(|| panic!("no error")));
        assert_eq!((api.status.as_u16(), api.code), (503, "unavailable"));
        let r = app
            .services
            .revoke_credential(&app.ctx(), &existing.credential.id, RevokeRequest { reason: Reason::parse("r").unwrap_or_else(|e| panic!("{e}")), emergency: true })
            .await;
        assert!(matches!(r, Err(CoreError::Unavailable(_))), "{r:?}");
        // Nothing changed: one credential, still active and still verifying.
        let all = app
            .services
            .list_credentials(&latchkey_core::storage::credentials::ListFilter { limit: 100, ..Default::default() })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].status, latchkey_core::domain::credential::Status::Active);
        assert!(app.is_valid(existing.secret.expose(), "staging").await);
        app.sql(match app.backend {
            Backend::Sqlite => "DROP TRIGGER audit_down",
            Backend::Postgres => "DROP TRIGGER audit_down ON audit_events",
        })
        .await;
        let report = app.services.audit_verify().await.unwrap_or_else(|e| panic!("{e}"));
        assert!(report.ok, "{report:?}");
    }
}
