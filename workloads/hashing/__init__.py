"""SHA-256 workloads: batch hashing and Bitcoin double SHA-256 mining."""
