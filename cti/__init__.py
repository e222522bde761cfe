"""cti: a computer-telephony server for call centers, between Asterisk (AMI) and people."""

__version__ = "0.1.0"
