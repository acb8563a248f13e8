"""Who may do what (``authz``) and the proposal state machine (``states``)."""
