/**
 * NVIDIA model names as fleetscope spells them (`H100`, `B200`, …) from what tools print
 * (`NVIDIA H100 80GB HBM3`): shared by the agent's nvidia-smi source and the hub's Telegraf input.
 */

const MODEL_RE = /\b(GB300|GB200|GH200|B300|B200|B100|H800|H200|H100|H20|A800|A100|A40|A30|A16|A10G|A10|A2|L40S|L40|L20|L4|T4|V100|P100|P40|P4)\b/i;

/** The known GPU model named anywhere in `text` (`NVIDIA H100 80GB HBM3`, `captures/nvidia-h200/…`), or null. */
export function knownGpuModel(text: string): string | null {
  const m = MODEL_RE.exec(text);
  return m ? m[1].toUpperCase() : null;
}

/** `NVIDIA H100 80GB HBM3` → `H100`; unknown names → the name without `NVIDIA `, spaces as `-`. */
export function gpuModelFromName(name: string | null): string {
  if (!name) return 'NVIDIA-GPU';
  const known = knownGpuModel(name);
  if (known) return known;
  const rest = name.replace(/^NVIDIA\s+/i, '').trim().replace(/\s+/g, '-').slice(0, 64);
  return rest || 'NVIDIA-GPU';
}
