"""The log going out: feeds over HTTP (server-sent events) and Kafka, the relay that
carries committed events to Kafka exactly in order, and the subscriber programs embed."""
