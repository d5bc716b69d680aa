//! Match suggestions, the program-wide assignment and publishing it in one batch.
