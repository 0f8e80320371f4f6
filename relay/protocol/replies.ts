// The only code that encodes relay-to-client frames (NIP-01, 42, 45, 77). It never adds text before a prefix.
import { formatRejection, type Rejection } from '../../nips/nip01.js'

/** ["OK", id, true, message] for an accepted event; message is empty or `duplicate: ...`. */
export const okFrame = (id: string, message = '') => JSON.stringify(['OK', id, true, message])
/** ["OK", id, false, "prefix: reason"]. */
export const refusedFrame = (id: string, r: Rejection) => JSON.stringify(['OK', id, false, formatRejection(r)])
/** ["CLOSED", subId, "prefix: reason"]. */
export const closedFrame = (subId: string, r: Rejection) => JSON.stringify(['CLOSED', subId, formatRejection(r)])
/** ["NOTICE", "prefix: reason"], only for frames that cannot be tied to an event or subscription. */
export const noticeFrame = (r: Rejection) => JSON.stringify(['NOTICE', formatRejection(r)])
/** ["EOSE", subId]. */
export const eoseFrame = (subId: string) => JSON.stringify(['EOSE', subId])
/** ["EVENT", subId, event], wrapping the stored JSON without re-encoding it. */
export const eventFrame = (subId: string, raw: string) => `["EVENT",${JSON.stringify(subId)},${raw}]`
/** ["COUNT", subId, {"count": n}] (NIP-45). */
export const countFrame = (subId: string, count: number) => JSON.stringify(['COUNT', subId, { count }])
/** ["NEG-MSG", subId, hex] (NIP-77). */
export const negMsgFrame = (subId: string, hex: string) => JSON.stringify(['NEG-MSG', subId, hex])
/** ["NEG-ERR", subId, "prefix: reason"] (NIP-77). */
export const negErrFrame = (subId: string, r: Rejection) => JSON.stringify(['NEG-ERR', subId, formatRejection(r)])
/** ["AUTH", challenge] (NIP-42). */
export const authFrame = (challenge: string) => JSON.stringify(['AUTH', challenge])
