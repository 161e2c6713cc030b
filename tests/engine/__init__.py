"""The engine stand-in (`standin`) and the end-to-end proofs run through it."""
