"""sluice: policy engine for telemetry, trace filters and payload redaction."""
