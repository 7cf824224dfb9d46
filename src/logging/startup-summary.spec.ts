import { startupSummary } from './startup-summary';

const facts = {
  mode: 'sandbox' as const,
  database: 'embedded Postgres on 127.0.0.1:40001, data in /d/postgres',
  cloud: 'sandbox in this process: EC2 http://127.0.0.1:5556',
  regions: ['us-east-1', 'us-west-2'],
  development: { clientId: 'sandbox-developer', token: 'tok_123', file: '/d/development-token' },
};

describe('start-up summary', () => {
  it('says where the API and Swagger UI are, the token, and what runs where, in a few lines', () => {
    const { text, fields } = startupSummary({
      ...facts,
      address: { address: '127.0.0.1', family: 'IPv4', port: 5555 },
    });
    const lines = text.split('\n');
    expect(lines.length).toBeLessThanOrEqual(6);
    expect(lines[0]).toBe('ec2-manager is ready (sandbox mode), listening on 127.0.0.1:5555');
    expect(text).toContain('http://127.0.0.1:5555/api');
    expect(text).toContain('tok_123');
    expect(text).toContain('/d/development-token');
    expect(text).toContain(facts.database);
    expect(text).toContain('us-east-1, us-west-2');
    expect(fields).toMatchObject({ url: 'http://127.0.0.1:5555', listen: '127.0.0.1:5555', bearerToken: 'tok_123' });
  });

  it('tells the truth about a wildcard address and leaves the token out in aws mode', () => {
    const { text, fields } = startupSummary({
      ...facts,
      mode: 'aws',
      development: undefined,
      address: { address: '::', family: 'IPv6', port: 8080 },
    });
    expect(text.split('\n')[0]).toBe('ec2-manager is ready (aws mode), listening on [::]:8080 (every interface)');
    expect(fields).toMatchObject({ url: 'http://127.0.0.1:8080', listen: '[::]:8080' });
    expect(text).not.toContain('token');
    expect(fields).not.toHaveProperty('bearerToken');
  });
});
