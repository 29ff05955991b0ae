"""The realtime app: diff snapshots into events, fan them out over /ws/tokens/, and the live page."""
