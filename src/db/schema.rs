//! Diesel table definitions, written by hand with types both backends share
//! (`diesel print-schema` differs per backend). Must match `migrations/*/`.

diesel::table! {
    prefectures (code) {
        code -> Text,
        name_zh -> Text,
        name_en -> Text,
        kind -> Text,
    }
}

diesel::table! {
    counties (code) {
        code -> Text,
        prefecture_code -> Text,
        name_zh -> Text,
        name_en -> Text,
        kind -> Text,
        poverty_county_2019 -> Bool,
        deep_poverty -> Text,
        exit_year -> Nullable<Integer>,
        source_note -> Text,
    }
}

diesel::table! {
    county_designations (id) {
        id -> Text,
        county_code -> Text,
        valid_from -> Date,
        valid_to -> Date,
        note -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        scope -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (jti) {
        jti -> Text,
        subject -> Text,
        role -> Text,
        scope -> Nullable<Text>,
        label -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    targets (year) {
        year -> Integer,
        numerator -> BigInt,
        denominator -> BigInt,
        set_by -> Text,
        set_at -> Timestamp,
    }
}

diesel::table! {
    schools (id) {
        id -> Text,
        county_code -> Text,
        name -> Text,
        code -> Nullable<Text>,
        students -> Nullable<Integer>,
        address -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ledger_heads (school_id) {
        school_id -> Text,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    suppliers (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        origin_county_code -> Text,
        registration_ref -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        payment_terms_days -> Integer,
    }
}

diesel::table! {
    supplier_tags (id) {
        id -> Text,
        supplier_id -> Text,
        tag -> Text,
        status -> Text,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
        evidence -> Text,
        declared_by -> Text,
        declared_at -> Timestamp,
        reviewed_by -> Nullable<Text>,
        reviewed_at -> Nullable<Timestamp>,
        review_note -> Nullable<Text>,
    }
}

diesel::table! {
    purchases (id) {
        id -> Text,
        school_id -> Text,
        county_code -> Text,
        supplier_id -> Text,
        purchase_date -> Date,
        invoice_no -> Nullable<Text>,
        kind -> Text,
        voids_id -> Nullable<Text>,
        void_reason -> Nullable<Text>,
        total_fen -> BigInt,
        seq -> BigInt,
        prev_hash -> Text,
        hash -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
        idempotency_key -> Nullable<Text>,
        chain_version -> Integer,
        corrects_id -> Nullable<Text>,
    }
}

diesel::table! {
    purchase_lines (purchase_id, line_no) {
        purchase_id -> Text,
        line_no -> Integer,
        category -> Text,
        description -> Text,
        quantity_milli -> BigInt,
        unit -> Text,
        unit_price_e4 -> BigInt,
        amount_fen -> BigInt,
        mass_mg -> Nullable<BigInt>,
    }
}

diesel::table! {
    purchase_qualifications (purchase_id) {
        purchase_id -> Text,
        class -> Text,
        tag -> Nullable<Text>,
        policy_version -> Text,
        evaluated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (school_id, idem_key) {
        school_id -> Text,
        idem_key -> Text,
        request_hash -> Text,
        request_body -> Text,
        response_status -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        subject_type -> Text,
        subject_id -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
    }
}

diesel::table! {
    imports (id) {
        id -> Text,
        school_id -> Text,
        file_sha256 -> Text,
        file_name -> Text,
        format -> Text,
        row_count -> Integer,
        purchase_count -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        response_body -> Text,
    }
}

diesel::joinable!(counties -> prefectures (prefecture_code));
diesel::joinable!(county_designations -> counties (county_code));
diesel::joinable!(schools -> counties (county_code));
diesel::joinable!(supplier_tags -> suppliers (supplier_id));
diesel::joinable!(purchase_lines -> purchases (purchase_id));
diesel::joinable!(purchase_qualifications -> purchases (purchase_id));
diesel::joinable!(purchase_confirmations -> purchases (purchase_id));
diesel::joinable!(payments -> purchases (purchase_id));
diesel::joinable!(imports -> schools (school_id));

diesel::allow_tables_to_appear_in_same_query!(
    prefectures,
    counties,
    reporting_lines,
    county_designations,
    users,
    api_tokens,
    targets,
    schools,
    ledger_heads,
    suppliers,
    supplier_tags,
    purchases,
    purchase_lines,
    purchase_qualifications,
    idempotency_keys,
    audit_log,
    imports,
    agg_school,
    agg_facts,
    target_history,
    deliveries,
    purchase_confirmations,
    payments,
    webhook_subscriptions,
    webhook_events,
    webhook_deliveries,
    submissions,
    submission_heads,
);

diesel::table! {
    agg_school (kind, bucket_start, school_id) {
        school_id -> Text,
        county_code -> Text,
        kind -> Integer,
        bucket_start -> Date,
        total_fen -> BigInt,
        qualifying_fen -> BigInt,
        pending_fen -> BigInt,
        total_mg -> BigInt,
        qualifying_mg -> BigInt,
        purchases -> BigInt,
        confirmed_fen -> BigInt,
        confirmed_qualifying_fen -> BigInt,
        paid_fen -> BigInt,
    }
}

diesel::table! {
    agg_facts (kind, bucket_start, school_id, category, class, tag) {
        school_id -> Text,
        county_code -> Text,
        kind -> Integer,
        bucket_start -> Date,
        category -> Text,
        class -> Text,
        tag -> Text,
        amount_fen -> BigInt,
        mass_mg -> BigInt,
    }
}

diesel::table! {
    target_history (id) {
        id -> Text,
        year -> Integer,
        numerator -> BigInt,
        denominator -> BigInt,
        set_by -> Text,
        set_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        supplier_id -> Text,
        school_id -> Text,
        delivery_date -> Date,
        reference -> Text,
        total_fen -> BigInt,
        status -> Text,
        purchase_id -> Nullable<Text>,
        dispute_reason -> Nullable<Text>,
        idem_key -> Text,
        request_hash -> Text,
        request_body -> Text,
        response_body -> Text,
        purchase_body -> Text,
        pushed_by -> Text,
        pushed_at -> Timestamp,
        resolved_by -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    purchase_confirmations (purchase_id) {
        purchase_id -> Text,
        state -> Text,
        via -> Text,
        delivery_id -> Nullable<Text>,
        reason -> Nullable<Text>,
        decided_by -> Text,
        decided_at -> Timestamp,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        purchase_id -> Text,
        paid_on -> Date,
        amount_fen -> BigInt,
        reference -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        supplier_id -> Text,
        url -> Text,
        events -> Nullable<Text>,
        secret -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Text,
        supplier_id -> Text,
        event_type -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        event_id -> Text,
        subscription_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));

diesel::table! {
    session_revocations (id) {
        id -> Text,
        jti -> Nullable<Text>,
        user_id -> Text,
        revoked_by -> Text,
        revoked_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    reporting_lines (county_code) {
        county_code -> Text,
        reports_to -> Text,
        source -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    submissions (id) {
        id -> Text,
        unit_kind -> Text,
        unit_code -> Text,
        period -> Text,
        revision -> Integer,
        reason -> Nullable<Text>,
        idem_key -> Text,
        request_json -> Text,
        submitted_by -> Text,
        submitted_at -> Timestamp,
        due_on -> Date,
        on_time -> Bool,
        policy_version -> Text,
        digest -> Text,
        frozen_json -> Text,
    }
}

diesel::table! {
    submission_heads (submission_id, school_id) {
        submission_id -> Text,
        school_id -> Text,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::joinable!(submission_heads -> submissions (submission_id));
