import { reject } from '../nips/nip01.js'
import type { Policy } from './types.js'

/** EventSize refuses events with more tags or longer content than limits.max_event_tags / max_content_length. */
export const eventSize: Policy = {
  name: 'event-size',
  nips: [],
  antiSpam: false,
  door: false,
  enabled: () => true,
  make(cfg) {
    const { max_event_tags: maxTags, max_content_length: maxContent } = cfg.limits
    return {
      event: e => {
        if (e.tags.length > maxTags) return reject('invalid', `event has ${e.tags.length} tags, limit ${maxTags}`)
        // UTF-16 length is an upper bound on characters; count code points only when it is over.
        if (e.content.length <= maxContent) return undefined
        const chars = [...e.content].length
        return chars > maxContent ? reject('invalid', `content is ${chars} characters, limit ${maxContent}`) : undefined
      },
    }
  },
}
