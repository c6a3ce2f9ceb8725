"""Code kerasdet carries unmodified from other projects (each file's header says where from and why)."""
