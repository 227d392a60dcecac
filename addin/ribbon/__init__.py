"""The CRM ribbon: button declarations and the rendered customUI / VBA callbacks."""
