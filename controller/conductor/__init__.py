"""stratus-conductor: workflows and DB writes on behalf of agents."""
