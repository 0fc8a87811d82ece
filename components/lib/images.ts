/** Image references: one definition of "pinned", used by the config validation and the policy pack. Pure. */

/**
 * Pinned: a sha256 digest, or a tag naming an exact release — it starts with major.minor
 * (`1.24.1`, `v1.24.1-p1`, `17.6-system-trixie`, `2026.8.3`). A bare major (`postgres:17`, `x:v1`),
 * a channel (`stable-1`, `latest`) or no tag at all moves under you.
 */
export function isPinnedImage(image: string): boolean {
    const at = image.indexOf("@sha256:");
    if (at >= 0) return /^[a-f0-9]{64}$/.test(image.slice(at + "@sha256:".length));
    const tag = /:([^/:@]+)$/.exec(image)?.[1];
    return tag !== undefined && isReleaseTag(tag);
}

/** A tag naming an exact release (see isPinnedImage). */
export function isReleaseTag(tag: string): boolean {
    return /^v?\d+\.\d+/.test(tag);
}

/** A sha256 image digest as charts take it. */
export const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;
