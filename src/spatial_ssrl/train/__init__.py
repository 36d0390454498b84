"""Training: tiny offline models, SFT cold start and GRPO as thin layers over TRL."""
