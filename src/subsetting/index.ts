/** Subsetting (docs/subsetting.md): deterministic aperture, random subsetting, and fleet arithmetic for sizing. */
export type { ClientCoordinate, PeerRing, WindowMember } from './aperture.js';
export {
  apertureWidth,
  apertureWindow,
  peerOffset,
  randomOrder,
  ringHash,
  serverRing,
  vanDerCorput,
  windowMembers,
} from './aperture.js';
export type { ClientSubset, FleetScheme, Spread } from './fleet.js';
export { connectionChurn, fleetBalance, fleetSubsets, minimumChurn, spread } from './fleet.js';
export type { CoordinateSource, SubsetMember, SubsetOptions } from './subset.js';
export { checkCoordinate, defaultSubsetOptions, Subset } from './subset.js';
