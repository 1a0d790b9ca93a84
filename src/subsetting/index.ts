/** Subsetting (docs/subsetting.md): deterministic aperture, random subsetting, and fleet arithmetic for sizing. */
export type { ClientCoordinate, PeerRing, WindowMember } from './aperture.js';
export {
  apertureWidth,
  apertureWindow,
  peerOffset,
  randomOrder,
  ringHash,
  ringRest,
  serverRing,
  vanDerCorput,
  windowMembers,
} from './aperture.js';
export type { DynamicApertureOptions } from './dynamic-aperture.js';
export { defaultDynamicApertureOptions } from './dynamic-aperture.js';
export type { ClientSubset, FleetScheme, Spread } from './fleet.js';
export { connectionChurn, fleetBalance, fleetSubsets, minimumChurn, peerAddress, spread } from './fleet.js';
export { MAX_PEERS } from './peer-list.js';
export type { PeerRingLayout } from './peer-ring.js';
export { peerRingLayout, peerWindowMembers, peerWindowSpan } from './peer-ring.js';
export type { CoordinateSource, PeerListCoordinate, SubsetMember, SubsetOptions } from './subset.js';
export { checkCoordinate, defaultSubsetOptions, Subset } from './subset.js';
