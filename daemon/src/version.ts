// Versions berthd reports: its own, and the range of Engine API versions it serves (as dockerd 28).
export const BERTH_VERSION = '0.1.0';
export const API_VERSION = '1.51';
export const MIN_API_VERSION = '1.24';
