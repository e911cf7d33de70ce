//! Yaddash bundle format (in progress).
