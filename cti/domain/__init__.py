"""The pure core: typed events, commands, model, reducers, pacing maths. No asyncio, no I/O."""
