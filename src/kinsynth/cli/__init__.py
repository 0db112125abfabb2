"""The command-line applications (Hydra entry points), how they report failure, and the config
resolvers they use. Installed as the console scripts kinsynth-train, -generate, -dbtl, -simulate."""
