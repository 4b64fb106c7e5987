import type { App } from '../../types.js'
import { registerMultipartUpload } from './upload-form.js'

export const registerUploadVideo = (app: App) => registerMultipartUpload(app, 'video')
