"""The Stratus controller: API, scheduler, conductor and their shared logic."""
