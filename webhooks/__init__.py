"""The edge: HTTP in and out (Messenger, Zalo OA, web chat, admin)."""
