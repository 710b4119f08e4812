//! Thread-per-core runtime (being written).
