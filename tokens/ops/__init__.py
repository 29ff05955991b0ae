"""Operations views and checks: service status for health and /metrics, admin login throttle."""
