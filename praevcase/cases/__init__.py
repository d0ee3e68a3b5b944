"""Cases ("Fälle") and the front-line intake channels that open them."""
