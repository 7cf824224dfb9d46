// The AWS SDK warns once per process that its releases after January 2027 need Node 22. Every jest
// worker and every service a test starts would print it: true, known, and not what a test run is about.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
