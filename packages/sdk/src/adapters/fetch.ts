/** The `fetch` the SDK calls for every request; inject one to add logging, pinning or test doubles. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>
