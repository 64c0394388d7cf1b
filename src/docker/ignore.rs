//! `.dockerignore` matching with the docker CLI's semantics (owned by the context work).
