"""The machine: its host, binfmt_misc handlers, provisioning, Debian mirror, configuration files."""
