"""Referrals ("Vermittlungen") of families to offers, from the proposal to completion or drop-out."""
