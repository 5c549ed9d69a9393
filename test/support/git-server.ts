// The git smart-HTTP server lives in lib/local (the `npm start` demo serves its repository with it).
export * from '../../lib/local/git-server.js'
