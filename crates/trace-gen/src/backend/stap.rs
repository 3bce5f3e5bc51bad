//! Placeholder: the stap backend is written by helper gen-scripts and replaces this file.
