/** Unit constants shared by sources and the hub (no dependencies, so the agent bundle stays small). */

/** Bytes per MiB: nvidia-smi and NVML report memory in MiB; samples carry bytes. */
export const MIB = 1_048_576;
