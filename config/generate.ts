// Prints the reference file from the schema; `npm run config:generate` writes it to config/agora.reference.toml,
// and nothing else: the operator's own agora.toml is theirs.
import { renderDefaults } from './render.js'

process.stdout.write(renderDefaults())
