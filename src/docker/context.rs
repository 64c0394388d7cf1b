//! The build context as a tar stream (owned by the context work).
