//! taskfile
