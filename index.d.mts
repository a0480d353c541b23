import * as nativeSse from './index.js'

export * from './index.js'
export default nativeSse
