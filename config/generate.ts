// Prints config/agora.toml from the schema: `npm run config:generate`.
import { renderDefaults } from './render.js'

process.stdout.write(renderDefaults())
