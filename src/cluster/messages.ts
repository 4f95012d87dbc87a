/** What the primary sends a worker over the cluster's IPC channel: drain and exit. */
export const SHUTDOWN_MESSAGE = 'atelier:shutdown';
