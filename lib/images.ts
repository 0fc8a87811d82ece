/** Image references: one definition of "pinned", used by the config validation and the policy pack. Pure. */

// The reference grammar of distribution/reference (what docker, containerd and the kubelet parse):
// [registry[:port]/]path[:tag][@sha256:digest]; no whitespace or other character fits anywhere.
const REGISTRY = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?/)?`;
const PATH_COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const REFERENCE = new RegExp(String.raw`^${REGISTRY}${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::([\w][\w.-]{0,127}))?(?:@sha256:([a-f0-9]{64}))?$`);
/** Words that name a moving target wherever they stand in a tag (`1.2-latest`, `17-stable`). */
const MOVING = /(^|[-._])(latest|stable|edge|nightly|dev|main|master|rolling|current)($|[-._])/i;

/**
 * Pinned: a well-formed reference with a sha256 digest, or with a tag naming an exact release — it
 * starts with major.minor (`1.24.1`, `v1.24.1-p1`, `17.6-system-trixie`, `2026.8.3`) and has no
 * moving word in it. A bare major (`postgres:17`, `x:v1`), a channel (`stable-1`, `latest`,
 * `1.2-latest`), no tag at all, or a malformed reference (a space, a newline) moves under you or
 * pulls nothing.
 */
export function isPinnedImage(image: string): boolean {
    const m = REFERENCE.exec(image);
    if (!m) return false;
    const [, tag, digest] = m;
    return digest !== undefined || (tag !== undefined && isReleaseTag(tag));
}

/** A tag naming an exact release (see isPinnedImage). */
export function isReleaseTag(tag: string): boolean {
    return /^v?\d+\.\d+/.test(tag) && !MOVING.test(tag);
}

/** A sha256 image digest as charts take it. */
export const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;
