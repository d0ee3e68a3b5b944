"""The prevention team and its review sessions ("Schnittstellengespräche"): schedule, agenda, meeting, minutes, calendar."""
