//! The diesel schema, written by hand in portable types (UUIDs as text, UTC
//! timestamps) so one definition serves SQLite and PostgreSQL. It must match
//! `migrations/*/`; the schema-parity test checks the two migrated databases.

diesel::table! {
    firms (id) {
        id -> Text,
        name -> Text,
        time_zone -> Text,
        mail_from -> Nullable<Text>,
        phone -> Nullable<Text>,
        weekly_schedule -> Nullable<Text>,
        no_activity_updates -> Bool,
        created_at -> Timestamp,
        closed_matter_uploads -> Bool,
        accent_colour -> Nullable<Text>,
        reply_to_case_manager -> Bool,
        public_host -> Nullable<Text>,
        message_text_in_email -> Bool,
        one_tap_sign_in -> Bool,
        treatment_gap_days -> Integer,
        sms_from_hour -> Integer,
        sms_until_hour -> Integer,
    }
}

diesel::table! {
    firm_logos (firm_id) {
        firm_id -> Text,
        content_type -> Text,
        bytes -> Binary,
        digest -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        firm_id -> Text,
        role -> Text,
        email -> Text,
        full_name -> Text,
        phone -> Nullable<Text>,
        language -> Text,
        weekly_updates -> Bool,
        password_hash -> Nullable<Text>,
        totp_secret -> Nullable<Text>,
        totp_last_step -> Nullable<BigInt>,
        failed_sign_ins -> Integer,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_active_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    phases (id) {
        id -> Text,
        firm_id -> Text,
        practice_area -> Text,
        key -> Text,
        position -> Integer,
        treatment -> Bool,
    }
}

diesel::table! {
    phase_texts (phase_id, language) {
        phase_id -> Text,
        language -> Text,
        title -> Text,
        what_it_means -> Text,
        what_happens_next -> Text,
    }
}

diesel::table! {
    matters (id) {
        id -> Text,
        firm_id -> Text,
        practice_area -> Text,
        phase_id -> Text,
        title -> Text,
        case_manager_id -> Nullable<Text>,
        external_id -> Nullable<Text>,
        opened_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    matter_clients (matter_id, client_id) {
        matter_id -> Text,
        client_id -> Text,
    }
}

diesel::table! {
    milestones (id) {
        id -> Text,
        matter_id -> Text,
        kind -> Text,
        client_visible -> Bool,
        phase_id -> Nullable<Text>,
        body -> Nullable<Text>,
        occurs_at -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    document_requests (id) {
        id -> Text,
        matter_id -> Text,
        title -> Text,
        details -> Nullable<Text>,
        category -> Text,
        status -> Text,
        requested_by -> Nullable<Text>,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        due_date -> Nullable<Date>,
        fulfil_on -> Text,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        matter_id -> Text,
        request_id -> Nullable<Text>,
        object_key -> Text,
        original_name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        category -> Text,
        source -> Text,
        uploaded_by -> Nullable<Text>,
        reviewed_at -> Nullable<Timestamp>,
        reviewed_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        firm_id -> Text,
        recipient_id -> Text,
        kind -> Text,
        period_key -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        claimed_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        payload -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        channel -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        firm_id -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        actor_kind -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
    }
}

diesel::table! {
    sign_in_tokens (id) {
        id -> Text,
        user_id -> Text,
        code_hash -> Text,
        attempts -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ratings (id) {
        id -> Text,
        firm_id -> Text,
        client_id -> Text,
        notification_id -> Nullable<Text>,
        score -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    storage_cleanup (id) {
        id -> Text,
        object_key -> Text,
        upload_id -> Nullable<Text>,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> firms (firm_id));
diesel::joinable!(firm_logos -> firms (firm_id));
diesel::joinable!(notifications -> users (recipient_id));
diesel::joinable!(phases -> firms (firm_id));
diesel::joinable!(phase_texts -> phases (phase_id));
diesel::joinable!(matters -> phases (phase_id));
diesel::joinable!(matter_clients -> matters (matter_id));
diesel::joinable!(matter_clients -> users (client_id));
diesel::joinable!(milestones -> matters (matter_id));
diesel::joinable!(document_requests -> matters (matter_id));
diesel::joinable!(documents -> matters (matter_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sign_in_tokens -> users (user_id));
diesel::joinable!(messages -> matters (matter_id));
diesel::joinable!(message_attachments -> messages (message_id));
diesel::joinable!(message_attachments -> documents (document_id));

diesel::allow_tables_to_appear_in_same_query!(
    firms,
    firm_logos,
    users,
    phases,
    phase_texts,
    matters,
    matter_clients,
    milestones,
    document_requests,
    documents,
    notifications,
    audit_events,
    sessions,
    sign_in_tokens,
    rate_limit_hits,
    ratings,
    storage_cleanup,
    short_links,
    messages,
    message_attachments,
    request_templates,
    one_tap_links,
    treatment_providers,
    treatment_visits,
    appointments,
    push_subscriptions,
    sms_consents,
    sms_messages,
);

diesel::table! {
    rate_limit_hits (id) {
        id -> Text,
        bucket -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    saved_filters (id) {
        id -> Text,
        firm_id -> Text,
        user_id -> Text,
        name -> Text,
        query -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    short_links (code_hash) {
        code_hash -> Text,
        target -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        firm_id -> Text,
        matter_id -> Text,
        author_id -> Nullable<Text>,
        kind -> Text,
        body -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        answered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    message_attachments (message_id, document_id) {
        message_id -> Text,
        document_id -> Text,
    }
}

diesel::table! {
    request_templates (firm_id, key, language) {
        firm_id -> Text,
        key -> Text,
        language -> Text,
        position -> Integer,
        category -> Text,
        title -> Text,
        details -> Nullable<Text>,
    }
}

diesel::table! {
    one_tap_links (id) {
        id -> Text,
        secret_hash -> Text,
        notification_id -> Text,
        user_id -> Text,
        target -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(one_tap_links -> users (user_id));
diesel::joinable!(one_tap_links -> notifications (notification_id));

diesel::table! {
    treatment_providers (id) {
        id -> Text,
        firm_id -> Text,
        matter_id -> Text,
        name -> Text,
        kind -> Text,
        phone -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    treatment_visits (id) {
        id -> Text,
        matter_id -> Text,
        provider_id -> Text,
        visit_on -> Date,
        status -> Text,
        note -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    appointments (id) {
        id -> Text,
        firm_id -> Text,
        matter_id -> Text,
        kind -> Text,
        starts_at -> Timestamp,
        duration_minutes -> Integer,
        place -> Text,
        bring -> Nullable<Text>,
        sequence -> Integer,
        cancelled_at -> Nullable<Timestamp>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(treatment_providers -> matters (matter_id));
diesel::joinable!(treatment_visits -> treatment_providers (provider_id));
diesel::joinable!(appointments -> matters (matter_id));

diesel::table! {
    push_subscriptions (id) {
        id -> Text,
        user_id -> Text,
        endpoint -> Text,
        p256dh -> Text,
        auth -> Text,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
        last_success_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sms_consents (user_id) {
        user_id -> Text,
        number -> Text,
        opted_in_at -> Nullable<Timestamp>,
        opt_in_source -> Nullable<Text>,
        opted_out_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sms_messages (notification_id) {
        notification_id -> Text,
        message_sid -> Text,
        status -> Text,
        error_code -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(sms_consents -> users (user_id));
diesel::joinable!(sms_messages -> notifications (notification_id));
