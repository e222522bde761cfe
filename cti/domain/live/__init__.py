"""The parts of :mod:`cti.domain.state`, the reducer of one PBX's live state."""
