//! The Store conformance suite on both backends: every case of `smmd_store::testsuite` runs once
//! on a fresh SQLite file and once on a fresh PostgreSQL database.

mod sqlite {
    use smmd_store_sql::testing::{fresh, Backend};
    smmd_store::conformance_tests!(fresh(Backend::Sqlite));
}

mod postgres {
    use smmd_store_sql::testing::{fresh, Backend};
    smmd_store::conformance_tests!(fresh(Backend::Postgres));
}
