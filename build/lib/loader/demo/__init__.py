"""Demo: deterministic sample exports and a local Hatch-compatible export server."""
