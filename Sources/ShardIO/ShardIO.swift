// ShardIO: placeholder until the module lands.
