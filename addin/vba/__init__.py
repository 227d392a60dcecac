"""Source-only vbaProject.bin writer: MS-CFB container, MS-OVBA compression and dir stream."""
