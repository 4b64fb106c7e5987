import type { App } from '../../types.js'
import { registerMultipartUpload } from './upload-form.js'

export const registerUploadImage = (app: App) => registerMultipartUpload(app, 'image')
